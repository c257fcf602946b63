"""What the outside checks share: named steps, each run at once and counted, one closing line
`<name>: N passed, M failed`; and the firewall rules they create (sdk_check.py, spec_check.py).
"""

import sys
import traceback

# One ACCEPT rule for TCP 22 and 80 from anywhere; everything else inbound is dropped.
WEB_RULES = {
    "inbound_policy": "DROP",
    "inbound": [
        {
            "action": "ACCEPT",
            "protocol": "TCP",
            "ports": "22,80",
            "addresses": {"ipv4": ["0.0.0.0/0"], "ipv6": ["::/0"]},
            "label": "ssh-and-http",
            "description": "SSH and HTTP from anywhere",
        }
    ],
    "outbound_policy": "ACCEPT",
    "outbound": [],
}
# Nothing inbound at all.
LOCKED_RULES = {"inbound_policy": "DROP", "inbound": [], "outbound_policy": "ACCEPT", "outbound": []}


class Checks:
    """`@checks("name")` runs the function it decorates at once; an exception fails it."""

    def __init__(self, name):
        self.name = name
        self.results = []

    def __call__(self, title):
        def wrap(step):
            try:
                step()
                self.results.append((title, None))
                print(f"ok    {title}")
            except Exception as error:  # any failure is reported, then counted
                self.results.append((title, error))
                print(f"FAIL  {title}: {error!r}")
                traceback.print_exc()
            return step

        return wrap

    def finish(self):
        """Prints the closing line and exits non-zero on any failure."""
        failed = sum(1 for _, error in self.results if error is not None)
        print(f"{self.name}: {len(self.results) - failed} passed, {failed} failed")
        sys.exit(1 if failed else 0)
