//! The server's own SSH host key, created once and kept across restarts.
//!
//! Clients pin the host key's fingerprint on first connect. A key that changed on every
//! restart would train people to accept "REMOTE HOST IDENTIFICATION HAS CHANGED", which is
//! the one warning that protects them, so an existing key is never replaced.

use std::fmt;
use std::fs::{DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, HashAlg, PrivateKey};

pub struct HostKey {
    pub key: PrivateKey,
    /// True when this run generated the key, so the banner can say the fingerprint is new.
    pub created: bool,
    pub path: PathBuf,
}

impl HostKey {
    /// `SHA256:…`, as `ssh-keygen -lf` and the client's first-connect prompt show it.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }
}

// Written by hand so that a stray `{:?}` can never print key material.
impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostKey")
            .field("path", &self.path)
            .field("fingerprint", &self.fingerprint())
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    #[error("cannot read host key {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("host key {} is not a regular file; expected an OpenSSH private key file", path.display())]
    NotAFile { path: PathBuf },
    #[error(
        "host key {} is accessible by others (mode {mode:03o}); expected 600: run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error(
        "host key {} cannot be read as a private key ({reason}); expected an unencrypted OpenSSH private key. It is not replaced, since a new key would change the fingerprint clients trust: fix or remove it yourself",
        path.display()
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "host key {} is protected by a passphrase; expected an unencrypted key, since the server starts unattended",
        path.display()
    )]
    Encrypted { path: PathBuf },
    #[error("cannot create the host key directory {}: {source}", dir.display())]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot generate a host key: {reason}")]
    Generate { reason: String },
    #[error("cannot write host key {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Loads the host key at `path`, or creates an Ed25519 one there if nothing is there yet.
pub fn load_or_create(path: &Path) -> Result<HostKey, HostKeyError> {
    match std::fs::metadata(path) {
        Ok(meta) => load(path, &meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => create(path),
        Err(source) => Err(HostKeyError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn load(path: &Path, meta: &std::fs::Metadata) -> Result<HostKey, HostKeyError> {
    if !meta.is_file() {
        return Err(HostKeyError::NotAFile {
            path: path.to_owned(),
        });
    }
    // The same rule as OpenSSH's "UNPROTECTED PRIVATE KEY FILE!": whoever can read the
    // host key can impersonate the server.
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(HostKeyError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == io::ErrorKind::InvalidData {
            HostKeyError::Corrupt {
                path: path.to_owned(),
                reason: "not text".into(),
            }
        } else {
            HostKeyError::Read {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    let corrupt = |reason: String| HostKeyError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let key = match PrivateKey::from_openssh(&text) {
        Ok(key) if key.is_encrypted() => {
            return Err(HostKeyError::Encrypted {
                path: path.to_owned(),
            });
        }
        Ok(key) => key,
        // russh also reads PKCS#8 and PuTTY files, for an operator who points at a key
        // made elsewhere.
        Err(openssh_err) => russh::keys::decode_secret_key(&text, None)
            .map_err(|_| corrupt(openssh_err.to_string()))?,
    };
    Ok(HostKey {
        key,
        created: false,
        path: path.to_owned(),
    })
}

fn create(path: &Path) -> Result<HostKey, HostKeyError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        // 0700 on every directory created here; existing ones keep whatever mode they have.
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| HostKeyError::CreateDir {
                dir: dir.to_owned(),
                source,
            })?;
    }
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).map_err(|e| {
        HostKeyError::Generate {
            reason: e.to_string(),
        }
    })?;
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| HostKeyError::Generate {
            reason: e.to_string(),
        })?;
    // Not `write_openssh_file`: it opens with create + truncate, so it would overwrite a key
    // that appeared meanwhile (another instance starting), and it leaves an existing file's
    // mode alone. `create_new` with 0600 refuses to clobber and is never readable by others,
    // not even for a moment.
    let write_err = |source| HostKeyError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write_err)?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(source) = written {
        // A half-written key would be refused as corrupt on the next start; better to leave
        // nothing, so the next start makes a fresh one.
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(write_err(source));
    }
    Ok(HostKey {
        key,
        created: true,
        path: path.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn create_then_load_gives_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host_ed25519");
        let first = load_or_create(&path).unwrap();
        assert!(first.created);
        assert_eq!(first.path, path);
        assert!(first.fingerprint().starts_with("SHA256:"));
        assert_eq!(first.key.algorithm(), Algorithm::Ed25519);
        assert_eq!(mode(&path), 0o600);

        let again = load_or_create(&path).unwrap();
        assert!(!again.created);
        assert_eq!(again.fingerprint(), first.fingerprint());
        assert_eq!(again.key.public_key(), first.key.public_key());
    }

    #[test]
    fn a_missing_parent_directory_is_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("remtrack").join("host_key");
        let key = load_or_create(&path).unwrap();
        assert!(key.created);
        assert_eq!(mode(&dir.path().join("state")), 0o700);
        assert_eq!(mode(&dir.path().join("state/remtrack")), 0o700);
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_readable_key_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host_key");
        load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(&path).unwrap_err();
        assert!(matches!(err, HostKeyError::TooOpen { mode: 0o644, .. }));
        let msg = err.to_string();
        assert!(msg.contains("mode 644"), "{msg}");
        assert!(
            msg.contains(&format!("chmod 600 {}", path.display())),
            "{msg}"
        );
        // Group-writable is as bad as world-readable.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o620)).unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(HostKeyError::TooOpen { .. })
        ));
    }

    #[test]
    fn garbage_is_refused_and_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in [
            ("text", b"not a key\n".as_slice()),
            ("binary", &[0xff, 0xfe, 0x00, 0x01]),
            (
                "truncated",
                b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
            ),
            ("empty", b""),
        ] {
            let path = dir.path().join(name);
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .unwrap();
            f.write_all(content).unwrap();
            drop(f);
            let err = load_or_create(&path).unwrap_err();
            assert!(matches!(err, HostKeyError::Corrupt { .. }), "{name}: {err:?}");
            assert!(err.to_string().contains(&path.display().to_string()));
            assert_eq!(std::fs::read(&path).unwrap(), content, "{name} was modified");
        }
    }

    #[test]
    fn an_encrypted_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host_key");
        let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
        let locked = key.encrypt(&mut rand::rng(), "secret").unwrap();
        locked.write_openssh_file(&path, LineEnding::LF).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(matches!(
            load_or_create(&path),
            Err(HostKeyError::Encrypted { .. })
        ));
    }

    #[test]
    fn a_directory_is_not_a_key() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_or_create(dir.path()),
            Err(HostKeyError::NotAFile { .. })
        ));
    }

    #[test]
    fn debug_output_has_no_key_material() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host_key");
        let key = load_or_create(&path).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.fingerprint()), "{shown}");
        let file = std::fs::read_to_string(&path).unwrap();
        let body: Vec<&str> = file.lines().filter(|l| !l.starts_with("-----")).collect();
        for line in body {
            assert!(!shown.contains(line), "{shown}");
        }
    }
}
