//! Per-integration options: settings a user changes after connecting (PostHog's
//! picked events and breakdown property), declared by the provider as
//! [`OptionField`]s, checked here for shape and by the provider for meaning
//! ([`Provider::parse_options`](crate::Provider::parse_options)), stored by the server
//! as a JSON object and handed to every sync in
//! [`SyncRequest::options`](crate::SyncRequest::options).

use serde_json::{Map, Value};

use crate::catalog::{OptionField, OptionKind};

/// An integration's options: names of its provider's [`OptionField`]s → a string or
/// a list of strings. Unset options are absent.
pub type IntegrationOptions = Map<String, Value>;

/// Why options were refused, naming the option so a form can show it beside it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct OptionError {
    pub field: String,
    pub message: String,
}

impl OptionError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Checks `input` against the declared fields and normalises it: unknown names and
/// wrong types are refused; strings are trimmed; `null`, blank strings and empty
/// lists are dropped (unset); a list loses blank and repeated values and may hold at
/// most its `max_items`.
pub fn check_declared(
    fields: &[OptionField],
    input: &IntegrationOptions,
) -> Result<IntegrationOptions, OptionError> {
    let mut out = Map::new();
    for (name, value) in input {
        let Some(field) = fields.iter().find(|f| f.name == name) else {
            return Err(OptionError::new(
                name.as_str(),
                "is not an option this provider takes",
            ));
        };
        match (field.kind, value) {
            (_, Value::Null) => {}
            (OptionKind::Text, Value::String(s)) => {
                let s = s.trim();
                if !s.is_empty() {
                    out.insert(name.clone(), Value::String(s.to_owned()));
                }
            }
            (OptionKind::Text, _) => {
                return Err(OptionError::new(name.as_str(), "must be a string"));
            }
            (OptionKind::List { max_items }, Value::Array(items)) => {
                let mut values: Vec<String> = Vec::new();
                for item in items {
                    let Value::String(s) = item else {
                        return Err(OptionError::new(name.as_str(), "must be a list of strings"));
                    };
                    let s = s.trim();
                    if !s.is_empty() && !values.iter().any(|v| v == s) {
                        values.push(s.to_owned());
                    }
                }
                if values.len() > max_items as usize {
                    return Err(OptionError::new(
                        name.as_str(),
                        format!("takes at most {max_items} values"),
                    ));
                }
                if !values.is_empty() {
                    out.insert(
                        name.clone(),
                        values.into_iter().map(Value::String).collect(),
                    );
                }
            }
            (OptionKind::List { .. }, _) => {
                return Err(OptionError::new(name.as_str(), "must be a list of strings"));
            }
        }
    }
    Ok(out)
}

/// A text option's value.
pub fn text<'a>(options: &'a IntegrationOptions, name: &str) -> Option<&'a str> {
    options.get(name).and_then(Value::as_str)
}

/// A list option's values (empty when unset).
pub fn list<'a>(options: &'a IntegrationOptions, name: &str) -> Vec<&'a str> {
    options
        .get(name)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const FIELDS: &[OptionField] = &[
        OptionField {
            name: "events",
            label: "Events",
            kind: OptionKind::List { max_items: 2 },
            placeholder: "",
            help: "",
            pattern: None,
        },
        OptionField {
            name: "property",
            label: "Property",
            kind: OptionKind::Text,
            placeholder: "",
            help: "",
            pattern: None,
        },
    ];

    fn check(input: Value) -> Result<Value, OptionError> {
        check_declared(FIELDS, input.as_object().unwrap()).map(Value::Object)
    }

    #[test]
    fn options_are_trimmed_deduplicated_and_unset_when_blank() {
        assert_eq!(
            check(json!({ "events": [" a ", "b", "a", ""], "property": "  plan " })).unwrap(),
            json!({ "events": ["a", "b"], "property": "plan" })
        );
        assert_eq!(
            check(json!({ "events": [], "property": " " })).unwrap(),
            json!({})
        );
        assert_eq!(
            check(json!({ "events": null, "property": null })).unwrap(),
            json!({})
        );
    }

    #[test]
    fn unknown_names_wrong_types_and_long_lists_are_refused_naming_the_option() {
        for (input, field) in [
            (json!({ "colour": "red" }), "colour"),
            (json!({ "events": "a" }), "events"),
            (json!({ "events": [1] }), "events"),
            (json!({ "events": ["a", "b", "c"] }), "events"),
            (json!({ "property": ["a"] }), "property"),
        ] {
            assert_eq!(check(input.clone()).unwrap_err().field, field, "{input}");
        }
        let options = check(json!({ "events": ["a"], "property": "p" })).unwrap();
        let options = options.as_object().unwrap();
        assert_eq!(list(options, "events"), ["a"]);
        assert_eq!(text(options, "property"), Some("p"));
        assert!(list(options, "other").is_empty());
    }
}
