//! One nginx for the tests and the benchmarks: Debian's nginx, run as root
//! in the foreground from a private directory (its pid file, logs and temp
//! paths inside it), one worker forked by the master, `sendfile on`,
//! serving `root` (often `dir` itself) on 127.0.0.1:`port`; with
//! `conf_with`, also what the caller adds to the server (WebDAV's PUT, to
//! receive an upload).

use std::path::Path;

pub fn conf(dir: &Path, root: &Path, port: u16) -> String {
    conf_with(dir, root, port, "")
}

/// The same, with `server` directives added (an upload location).
pub fn conf_with(dir: &Path, root: &Path, port: u16, server: &str) -> String {
    let d = dir.display();
    let root = root.display();
    format!(
        "daemon off; master_process on; worker_processes 1; user root;\n\
         pid {d}/nginx.pid; error_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{ access_log off; sendfile on;\n\
           client_body_temp_path {d}/cb; proxy_temp_path {d}/px;\n\
           fastcgi_temp_path {d}/fc; uwsgi_temp_path {d}/uw; scgi_temp_path {d}/sc;\n\
           server {{ listen 127.0.0.1:{port}; root {root}; {server} }} }}\n"
    )
}
