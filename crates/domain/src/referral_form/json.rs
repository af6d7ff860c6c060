//! The API's JSON body turned into the same form map the pages fill.

use super::*;

/// Turns an API request body into form keys. Strings, numbers and booleans become values;
/// lists of people become numbered groups; lists of strings are joined with commas.
///
/// # Errors
/// Every key the form does not have, and every value of the wrong type, with its pointer.
pub fn from_json(body: &serde_json::Value) -> Result<FormMap, Vec<FieldError>> {
    use serde_json::Value;
    fn walk(key: &str, v: &Value, map: &mut FormMap, errors: &mut Vec<FieldError>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    let child = if key.is_empty() { k.clone() } else { format!("{key}.{k}") };
                    walk(&child, v, map, errors);
                }
            }
            Value::Array(items) if items.iter().all(Value::is_object) => {
                for (i, item) in items.iter().enumerate() {
                    walk(&format!("{key}.{i}"), item, map, errors);
                }
            }
            Value::Array(items) => {
                let strings: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                match strings {
                    Some(s) => {
                        map.insert(key.to_owned(), s.join(","));
                    }
                    None => errors.push(FieldError::new(key, "Must be a list of strings or a list of objects")),
                }
            }
            Value::String(s) => {
                map.insert(key.to_owned(), s.clone());
            }
            Value::Number(n) => {
                map.insert(key.to_owned(), n.to_string());
            }
            Value::Bool(b) => {
                map.insert(key.to_owned(), if *b { "yes" } else { "no" }.to_owned());
            }
            Value::Null => {}
        }
    }
    let mut map = FormMap::new();
    let mut errors = Vec::new();
    if !body.is_object() {
        return Err(vec![FieldError::new("", "The body must be a JSON object")]);
    }
    walk("", body, &mut map, &mut errors);
    for k in map.keys() {
        if !is_known_key(k) {
            errors.push(FieldError::new(k.clone(), "Not a field of a referral"));
        }
    }
    if errors.is_empty() { Ok(map) } else { Err(errors) }
}
