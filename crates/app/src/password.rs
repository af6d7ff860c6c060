//! Password hashing with argon2id at the OWASP/ASVS floor, and a bound on how many hashes
//! run at once so a burst of sign-ins cannot exhaust memory and CPU.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;
use tokio::sync::Semaphore;

/// Memory cost in KiB (19 MiB).
pub const M_COST: u32 = 19 * 1024;
/// Iterations.
pub const T_COST: u32 = 2;
/// Parallelism.
pub const P_COST: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashing failed (no randomness, or an internal error of the library).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a password to a PHC string, synchronously; for the command line.
///
/// # Errors
/// When hashing fails.
pub fn hash_blocking(password: &str) -> Result<String, HashError> {
    argon2().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| HashError(e.to_string()))
}

/// Checks a password against a PHC string, synchronously.
#[must_use]
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Whether a stored hash is weaker than the current parameters and should be replaced.
#[must_use]
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return true };
    let Ok(params) = Params::try_from(&parsed) else { return true };
    parsed.algorithm.as_str() != "argon2id" || params.m_cost() < M_COST || params.t_cost() < T_COST
}

/// A hash to verify against when the account does not exist, so unknown and known accounts
/// take the same time to refuse.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("not a real password, only for timing").unwrap_or_default())
}

/// Runs hashing off the async threads, at most one per core at a time.
#[derive(Debug)]
pub struct Passwords {
    permits: Semaphore,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    /// One permit per core.
    #[must_use]
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Passwords { permits: Semaphore::new(cores) }
    }

    /// Hashes a new password.
    ///
    /// # Errors
    /// When hashing fails.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let _permit = self.permits.acquire().await.map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await.map_err(|e| HashError(e.to_string()))?
    }

    /// Checks a password; with `None` checks against a dummy hash and returns false, taking
    /// the same time as a real check.
    pub async fn verify(&self, password: String, phc: Option<String>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else { return false };
        tokio::task::spawn_blocking(move || match phc {
            Some(phc) => verify_blocking(&password, &phc),
            None => {
                let _ = verify_blocking(&password, dummy_hash());
                false
            }
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_at_or_above_the_floor() {
        let phc = hash_blocking("correct horse battery staple").unwrap_or_default();
        let parsed = PasswordHash::new(&phc).ok();
        let parsed = parsed.as_ref();
        assert_eq!(parsed.map(|p| p.algorithm.as_str()), Some("argon2id"));
        let params = parsed.and_then(|p| Params::try_from(p).ok());
        assert!(params.as_ref().is_some_and(|p| p.m_cost() >= 19 * 1024 && p.t_cost() >= 2 && p.p_cost() == 1));
        assert!(verify_blocking("correct horse battery staple", &phc));
        assert!(!verify_blocking("correct horse battery stapl", &phc));
        assert!(!needs_rehash(&phc));
        assert!(needs_rehash("$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"));
    }
}
