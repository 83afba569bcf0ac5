//! Keeping passwords out of everything remtrack prints, logs or stores.

use url::Url;

/// The URL with its password (in the user-info part or a `password=` parameter) replaced by `***`.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        return redact_unparsed(raw);
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if pairs.iter().any(|(key, _)| is_secret_parameter(key)) {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &pairs {
            query.append_pair(
                key,
                if is_secret_parameter(key) {
                    "***"
                } else {
                    value
                },
            );
        }
        url.set_query(Some(&query.finish()));
    }
    url.to_string()
}

/// Replaces every occurrence of the URL's password in `text` (for error messages that echo it).
pub fn redact_text(text: &str, raw_url: &str) -> String {
    let mut out = text.replace(raw_url, &redact_url(raw_url));
    if let Ok(url) = Url::parse(raw_url) {
        let mut secrets: Vec<String> = url
            .query_pairs()
            .filter(|(k, _)| is_secret_parameter(k))
            .map(|(_, v)| v.into_owned())
            .collect();
        if let Some(password) = url.password() {
            secrets.push(password.to_string());
            if let Ok(decoded) = urlencoding_decode(password) {
                secrets.push(decoded);
            }
        }
        for secret in secrets.into_iter().filter(|s| s.len() >= 3) {
            out = out.replace(&secret, "***");
        }
    }
    out
}

fn is_secret_parameter(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "password" | "passwd" | "pass" | "sslpassword"
    )
}

fn urlencoding_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(bytes)
}

/// A URL the parser rejects may still hold `user:password@`: hide what sits between `:` and `@`.
fn redact_unparsed(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_string();
    };
    match rest.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => raw.to_string(),
        },
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_replaced_wherever_they_sit() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/prod"),
            "postgres://app:***@db:5432/prod"
        );
        assert_eq!(
            redact_url("postgres://app@db/prod?sslmode=require&password=s3cret"),
            "postgres://app@db/prod?sslmode=require&password=***"
        );
        assert_eq!(
            redact_url("postgres://app:p%40ss@db/prod"),
            "postgres://app:***@db/prod"
        );
        assert_eq!(
            redact_url("postgres://app:s3cret@db:notaport/prod"),
            "postgres://app:***@db:notaport/prod"
        );
        assert_eq!(redact_url("sqlite:demo.db"), "sqlite:demo.db");
    }

    #[test]
    fn error_text_that_echoes_a_password_is_cleaned() {
        let url = "postgres://app:s3cret@db/prod";
        let message = format!("connecting to {url} failed: password s3cret rejected");
        let cleaned = redact_text(&message, url);
        assert!(!cleaned.contains("s3cret"), "{cleaned}");
    }
}
