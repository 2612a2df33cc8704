//! The browser's half of WebAuthn: `navigator.credentials.create/get` with
//! the server's JSON options (parsed by the browser's own
//! `PublicKeyCredential.parse…OptionsFromJSON`) and the credential's
//! `toJSON()` sent back as text. No CBOR or base64 by hand.

use js_sys::{Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn get(target: &JsValue, name: &str) -> Result<JsValue, String> {
    Reflect::get(target, &JsValue::from_str(name)).map_err(describe)
}

fn describe(e: JsValue) -> String {
    e.as_string()
        .or_else(|| get(&e, "message").ok().and_then(|m| m.as_string()))
        .unwrap_or_else(|| "the browser refused".to_owned())
}

fn method(target: &JsValue, name: &str) -> Result<Function, String> {
    get(target, name)?.dyn_into::<Function>().map_err(|_| {
        format!("this browser has no {name}: use a current Chrome, Edge, Safari or Firefox")
    })
}

/// Runs one ceremony: `create` (registration) or `get` (sign-in), with the
/// options JSON from the server; answers the credential as JSON text.
async fn ceremony(kind: &str, parse: &str, options: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let pkc = get(&window, "PublicKeyCredential")?;
    if pkc.is_undefined() {
        return Err("this browser does not support passkeys".into());
    }
    let parsed_json = JSON::parse(options).map_err(describe)?;
    let public_key = method(&pkc, parse)?
        .call1(&pkc, &parsed_json)
        .map_err(describe)?;
    let arg = Object::new();
    Reflect::set(&arg, &JsValue::from_str("publicKey"), &public_key).map_err(describe)?;
    let credentials = get(&window.navigator(), "credentials")?;
    let promise: Promise = method(&credentials, kind)?
        .call1(&credentials, &arg)
        .map_err(describe)?
        .dyn_into()
        .map_err(|_| "the browser gave no promise".to_owned())?;
    let credential = JsFuture::from(promise).await.map_err(describe)?;
    if credential.is_null() {
        return Err("no passkey was chosen".into());
    }
    let as_json = method(&credential, "toJSON")?
        .call0(&credential)
        .map_err(describe)?;
    JSON::stringify(&as_json)
        .map(String::from)
        .map_err(describe)
}

/// Registers a new passkey.
pub async fn create(options: &str) -> Result<String, String> {
    ceremony("create", "parseCreationOptionsFromJSON", options).await
}

/// Signs in with an existing passkey.
pub async fn get_assertion(options: &str) -> Result<String, String> {
    ceremony("get", "parseRequestOptionsFromJSON", options).await
}
