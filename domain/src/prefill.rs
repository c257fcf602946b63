//! Shareable "Deploy to Linode" links: query parameters that pre-select the form, e.g.
//! `/?type=g6-nanode-1&region=us-east&image=linode/debian12&label=web01&hostname=web01`. SSH
//! keys are never taken from a link.
//! Every value is checked against the catalog and the form's rules; what does not fit is dropped
//! with a note, so a stale or hand-edited link never pre-fills something the server would refuse.

use std::collections::BTreeMap;

use crate::{
    form::{DeployForm, FieldKind},
    selection::{check_field, check_label, check_many, DeployRequest, RootLogin},
};

/// What the form starts with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Initial {
    pub plan: String,
    pub region: String,
    pub image: String,
    pub label: String,
    /// Public keys, one per line.
    pub ssh_keys: String,
    /// Password or keys only: a retry's, with its keys; otherwise the default.
    pub root_login: RootLogin,
    /// Field name → value; many-of values comma-separated.
    pub fields: BTreeMap<String, String>,
    /// What the link asked for that could not be used, in words.
    pub notices: Vec<String>,
}

/// The query parameter that carries the SSH keys of a retry, sealed by this server (see
/// `deploy::failure::retry_link`): a link anyone can write must never put a stranger's key on
/// someone's new Linode.
pub const RETRY_KEYS_PARAM: &str = "keys";

/// Set on a retry link whose keys were too long to carry back: the form then says so, since the
/// person would otherwise take "the same choices" for their keys (and "SSH keys only") too. It
/// only ever shows a fixed notice, so a link anyone writes gains nothing by it.
pub const KEYS_LEFT_OUT_PARAM: &str = "keys_left_out";

/// The notice for [`KEYS_LEFT_OUT_PARAM`].
pub const KEYS_LEFT_OUT: &str = "Your SSH keys were too long to carry back through this link: paste them again, and tick “SSH keys only” again if you chose it.";

impl Initial {
    /// The form as it would be posted with these values (many-of values split again).
    pub fn as_request(&self, form: &DeployForm) -> DeployRequest {
        let mut request = DeployRequest {
            plan: self.plan.clone(),
            region: self.region.clone(),
            image: self.image.clone(),
            label: self.label.clone(),
            ssh_keys: self.ssh_keys.clone(),
            keys_only: if self.root_login == RootLogin::KeysOnly { "on".to_owned() } else { String::new() },
            ..DeployRequest::default()
        };
        for (name, value) in &self.fields {
            if matches!(form.field(name).map(|field| &field.kind), Some(FieldKind::ManyOf(_))) {
                request.many.insert(name.clone(), value.split(',').map(str::to_owned).collect());
            } else {
                request.fields.insert(name.clone(), value.clone());
            }
        }
        request
    }
}

/// The region offered first when a link names none: Linode's oldest, busiest one.
const PREFERRED_REGION: &str = "us-east";

/// The starting values for `form`, given the page's query parameters (`param` looks one up).
pub fn initial(form: &DeployForm, param: impl Fn(&str) -> Option<String>) -> Initial {
    let mut notices = Vec::new();
    let mut asked = |key: &str, what: &str, valid: &dyn Fn(&str) -> bool| {
        let value = param(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
        if valid(&value) {
            Some(value)
        } else {
            notices.push(format!(
                "The link asked for {what} “{}”, which is not offered here; choose another.",
                clip(&value)
            ));
            None
        }
    };

    let plans = || form.plans.iter().flat_map(|group| &group.plans);
    let plan = asked("type", "plan", &|id| form.plan(id).is_some())
        .or_else(|| asked("plan", "plan", &|id| form.plan(id).is_some()))
        .or_else(|| plans().find(|plan| plan.class == "nanode").or_else(|| plans().next()).map(|p| p.id.clone()))
        .unwrap_or_default();
    let class = form.plan(&plan).map(|plan| plan.offered_as()).unwrap_or_default();
    let hosts = |id: &str| form.region(id).is_some_and(|region| region.unavailable_for(&class).is_none());
    let regions = || form.regions.iter().flat_map(|group| &group.regions);
    let region = asked("region", "region", &hosts)
        .or_else(|| Some(PREFERRED_REGION.to_owned()).filter(|id| hosts(id)))
        .or_else(|| regions().find(|region| hosts(&region.id)).map(|region| region.id.clone()))
        .unwrap_or_default();
    let offered = |id: &str| form.image(id).is_some_and(|image| image.unavailable().is_none());
    let image = asked("image", "image", &offered)
        .or_else(|| {
            let mut images = form.images.iter().flat_map(|group| &group.images);
            images.find(|image| image.unavailable().is_none()).map(|image| image.id.clone())
        })
        .unwrap_or_default();
    let label = asked("label", "label", &|label| matches!(check_label(label), Ok(Some(_)))).unwrap_or_default();
    // Never from the link itself: a link anyone can write would put their key on the new
    // Linode. A retry's keys come sealed by this server (`keys`, read by the page).
    let ssh_keys = String::new();

    let mut fields = BTreeMap::new();
    for field in &form.fields {
        let value = match &field.kind {
            // A password in a link would sit in browser history and server logs: never taken.
            FieldKind::Password => None,
            FieldKind::ManyOf(_) => asked(&field.name, &field.label, &|value| {
                let values: Vec<String> = value.split(',').map(|v| v.trim().to_owned()).collect();
                check_many(field, &values).is_ok()
            }),
            _ => asked(&field.name, &field.label, &|value| check_field(field, value).is_ok()),
        };
        if let Some(value) = value.or_else(|| field.default.clone()) {
            fields.insert(field.name.clone(), value);
        }
    }
    if param(KEYS_LEFT_OUT_PARAM).is_some() {
        notices.push(KEYS_LEFT_OUT.to_owned());
    }
    Initial { plan, region, image, label, ssh_keys, root_login: RootLogin::Password, fields, notices }
}

fn clip(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        form::FieldSpec,
        test_fixtures::{field, form as fixture, plan, region},
    };

    fn form() -> DeployForm {
        let plans = vec![plan("g6-standard-1", "standard"), plan("g6-nanode-1", "nanode"), plan("gpu-1", "gpu")];
        let regions =
            vec![region("ap-south", &["nanode", "standard", "gpu"]), region("us-east", &["nanode", "standard"])];
        let fields = vec![
            FieldSpec { label: "Host".into(), ..field("hostname", FieldKind::Text, None) },
            FieldSpec { label: "Password".into(), ..field("pw_password", FieldKind::Password, None) },
            FieldSpec {
                label: "Packages".into(),
                required: false,
                ..field("packages", FieldKind::ManyOf(vec!["git".into(), "vim".into()]), Some("git"))
            },
        ];
        fixture(plans, regions, fields)
    }

    fn query<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |key| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn defaults_without_a_link() {
        let initial = initial(&form(), query(&[]));
        assert_eq!(
            (initial.plan.as_str(), initial.region.as_str(), initial.image.as_str()),
            ("g6-nanode-1", "us-east", "linode/debian12")
        );
        assert_eq!(initial.fields.get("packages").map(String::as_str), Some("git"));
        assert!(initial.notices.is_empty());
    }

    #[test]
    fn a_link_preselects_what_fits_and_says_what_does_not() {
        let pairs = [
            ("type", "gpu-1"),
            ("region", "us-east"),
            ("label", "web01"),
            ("hostname", "web01"),
            ("pw_password", "leaked"),
            ("packages", "git,vim"),
        ];
        let initial = initial(&form(), query(&pairs));
        assert_eq!(initial.plan, "gpu-1");
        // us-east cannot host GPU plans: dropped, and the first region that can is chosen.
        assert_eq!(initial.region, "ap-south");
        assert_eq!(initial.notices.len(), 1, "{:?}", initial.notices);
        assert!(initial.notices[0].contains("us-east"));
        assert_eq!(initial.label, "web01");
        assert_eq!(initial.fields["hostname"], "web01");
        assert_eq!(initial.fields["packages"], "git,vim");
        assert!(!initial.fields.contains_key("pw_password"));

        let initial = initial_for(&[("type", "g9-nope"), ("label", "1bad"), ("packages", "emacs")]);
        assert_eq!(initial.plan, "g6-nanode-1");
        assert_eq!(initial.notices.len(), 3);
        assert_eq!(initial.fields["packages"], "git");
    }

    fn initial_for(pairs: &[(&str, &str)]) -> Initial {
        initial(&form(), query(pairs))
    }
}
