//! `countries-stub`: the REST Countries stand-in as a process, for offline demos and cross-process tests.
//! `STUB_BIND` (default 127.0.0.1), `STUB_PORT` (default 8099), `STUB_API_KEY` (v5 bearer key; unset:
//! no key needed).

use std::net::{IpAddr, SocketAddr};

use countries_stub::StubOptions;

#[tokio::main]
async fn main() {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let bind: IpAddr = var("STUB_BIND")
        .unwrap_or_else(|| "127.0.0.1".into())
        .parse()
        .unwrap_or_else(|e| exit(&format!("invalid STUB_BIND: {e}")));
    let port: u16 = var("STUB_PORT")
        .unwrap_or_else(|| "8099".into())
        .parse()
        .unwrap_or_else(|e| exit(&format!("invalid STUB_PORT: {e}")));
    let options = StubOptions {
        api_key: var("STUB_API_KEY"),
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(bind, port))
        .await
        .unwrap_or_else(|e| exit(&format!("cannot listen on {bind}:{port}: {e}")));
    let addr = listener.local_addr().expect("bound");
    println!("REST Countries stand-in on http://{addr}");
    println!(
        "  v3.1: http://{addr}/v3.1   v5: http://{addr}/countries/v5   faults: POST http://{addr}/_stub/faults"
    );
    let shutdown = async {
        tokio::signal::ctrl_c().await.ok();
    };
    axum::serve(listener, countries_stub::app(options))
        .with_graceful_shutdown(shutdown)
        .await
        .unwrap_or_else(|e| exit(&format!("server error: {e}")));
}

fn exit(message: &str) -> ! {
    eprintln!("countries-stub: {message}");
    std::process::exit(2)
}
