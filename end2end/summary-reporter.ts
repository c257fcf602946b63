import type { FullResult, Reporter, TestCase, TestResult } from "@playwright/test/reporter";

/** Prints one plain "playwright: N passed, N failed, N skipped" line, which CI counts. The label
 * is another for a run whose results are counted elsewhere (the proxy check's journey). */
export default class SummaryReporter implements Reporter {
  private readonly label: string;
  private passed = 0;
  private failed = 0;
  private skipped = 0;

  constructor(options: { label?: string } = {}) {
    this.label = options.label ?? "playwright";
  }

  onTestEnd(test: TestCase, result: TestResult) {
    // Count each test once, by its final outcome.
    if (result.retry < test.retries && result.status !== "passed" && result.status !== "skipped") return;
    if (result.status === "passed") this.passed++;
    else if (result.status === "skipped") this.skipped++;
    else this.failed++;
  }

  onEnd(_result: FullResult) {
    console.log(`${this.label}: ${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped`);
  }

  printsToStdio() {
    return false;
  }
}
