//! The running kernel's BTF, opened without parsing all of it.
//!
//! `/sys/kernel/btf/vmlinux` describes some 150,000 types. Parsing them all
//! into memory took about 65 ms, a third of zc's start-up, to answer a few
//! dozen questions: where a struct's fields are, what a tracepoint passes.
//! Instead zc maps the file (btf-rs's `Mmap` backend: types are decoded
//! when asked for, by id) and finds the names it needs in one pass over the
//! names, with one regular expression, which takes a few milliseconds. A
//! name outside that list is still found, by a slower scan of its own.

use std::{
    collections::HashMap,
    ops::Deref,
    path::Path,
    sync::atomic::{AtomicUsize, Ordering},
};

use btf_rs::{Backend, Btf, Type};

/// A kernel BTF and the types zc looks up by name, found in one pass.
pub struct KernelBtf {
    btf: Btf,
    named: HashMap<String, Vec<Type>>,
    /// Lookups of a name that was not indexed (each a scan of all names).
    scans: AtomicUsize,
}

impl KernelBtf {
    /// Maps the BTF file at `path`, falling back to reading and parsing it
    /// whole where it cannot be mapped, and indexes the types `names`.
    pub fn open(path: &Path, names: &[String]) -> Result<KernelBtf, OpenError> {
        let btf = match Btf::from_file_with_backend(path, Backend::Mmap) {
            Ok(btf) => btf,
            Err(_) => {
                // Tell a missing file (the usual failure) from one that is not BTF.
                let bytes = std::fs::read(path).map_err(OpenError::Read)?;
                Btf::from_bytes(&bytes).map_err(OpenError::Parse)?
            }
        };
        KernelBtf::index(btf, names).map_err(OpenError::Parse)
    }

    /// Indexes `names` in an already parsed BTF.
    pub fn index(btf: Btf, names: &[String]) -> Result<KernelBtf, btf_rs::Error> {
        let mut named: HashMap<String, Vec<Type>> = HashMap::new();
        if !names.is_empty() {
            let alternatives: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
            let re = regex::Regex::new(&format!("^(?:{})$", alternatives.join("|")))
                .map_err(|e| btf_rs::Error::Format(e.to_string()))?;
            for id in btf.resolve_ids_by_regex(&re)? {
                let ty = btf.resolve_type_by_id(id)?;
                let name = match ty.as_btf_type() {
                    Some(t) => btf.resolve_name(t)?,
                    None => continue,
                };
                named.entry(name).or_default().push(ty);
            }
            // A name asked for and absent is absent: no scan for it later.
            for n in names {
                named.entry(n.clone()).or_default();
            }
        }
        Ok(KernelBtf {
            btf,
            named,
            scans: AtomicUsize::new(0),
        })
    }

    /// The types named `name`, in BTF order.
    pub fn types_named(&self, name: &str) -> Result<Vec<Type>, btf_rs::Error> {
        match self.named.get(name) {
            Some(types) => Ok(types.clone()),
            None => {
                self.scans.fetch_add(1, Ordering::Relaxed);
                self.btf.resolve_types_by_name(name)
            }
        }
    }

    /// How many lookups needed a scan of their own.
    pub fn scans(&self) -> usize {
        self.scans.load(Ordering::Relaxed)
    }
}

impl Deref for KernelBtf {
    type Target = Btf;
    fn deref(&self) -> &Btf {
        &self.btf
    }
}

/// Why a BTF file could not be opened.
#[derive(Debug)]
pub enum OpenError {
    Read(std::io::Error),
    Parse(btf_rs::Error),
}
