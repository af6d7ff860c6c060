//! Sending e-mail over SMTP with `lettre`. The worker is the only caller; pages never send
//! mail themselves, they add notices and the outbox carries them.

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// A bad mail setting.
#[derive(Debug, thiserror::Error)]
pub enum MailSettingError {
    /// The SMTP URL cannot be used.
    #[error(
        "'{url}' is not an SMTP address this product understands ({reason}); use smtp://HOST:PORT or smtps://USER:PASSWORD@HOST"
    )]
    Url {
        /// The URL with any password hidden.
        url: String,
        /// Why.
        reason: String,
    },
    /// The From address is not an address.
    #[error("'{0}' is not an e-mail address (expected Name <address@example.org> or address@example.org)")]
    From(String),
}

/// An SMTP connection setting and the From address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for the server at `url`, sending as `from`.
    ///
    /// # Errors
    /// When the URL or the address cannot be used; the message hides any password.
    pub fn new(url: &str, from: &str) -> Result<Self, MailSettingError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailSettingError::Url { url: marac_store::redact_url(url), reason: e.to_string() })?
            // A stuck server must not hold the worker's claims past their lease.
            .timeout(Some(Duration::from_secs(30)))
            .build();
        Ok(Mailer { transport, from: Self::parse_from(from)? })
    }

    /// Checks a From address.
    ///
    /// # Errors
    /// When it is not an address.
    pub fn parse_from(from: &str) -> Result<Mailbox, MailSettingError> {
        from.parse().map_err(|_| MailSettingError::From(from.to_owned()))
    }

    /// Sends one plain-text message.
    ///
    /// # Errors
    /// The server's refusal or the connection failure, as text for the outbox; it names no
    /// recipient, since addresses are personal data and the outbox row already has one.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|_| "the recipient's address is not valid".to_owned())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_say_what_is_wrong_without_the_password() {
        let e = Mailer::new("gopher://user:secret@host", "a@b.example").unwrap_err().to_string();
        assert!(e.contains("user:***@host") && !e.contains("secret"), "{e}");
        let e = Mailer::new("smtp://127.0.0.1:2525", "not an address").unwrap_err().to_string();
        assert!(e.contains("not an e-mail address"), "{e}");
        assert!(Mailer::new("smtp://127.0.0.1:2525", "Marac <marac@example.org>").is_ok());
    }
}
