//! `info` and `version`: what the daemon says of itself and its host.

use serde_json::Value;

use super::disk::human_binary;
use crate::api_client::Client;

/// `docker info`'s server part, from `GET /info`.
pub async fn info(client: &Client) -> anyhow::Result<()> {
    let i = client.json("GET", "/info", None).await?;
    let s = |k: &str| match &i[k] {
        Value::String(v) => v.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    println!("Server:");
    println!(" Containers: {}", s("Containers"));
    println!("  Running: {}", s("ContainersRunning"));
    println!("  Paused: {}", s("ContainersPaused"));
    println!("  Stopped: {}", s("ContainersStopped"));
    println!(" Images: {}", s("Images"));
    println!(" Server Version: {}", s("ServerVersion"));
    println!(" Storage Driver: {}", s("Driver"));
    println!(" Logging Driver: {}", s("LoggingDriver"));
    println!(" Cgroup Driver: {}", s("CgroupDriver"));
    println!(" Cgroup Version: {}", s("CgroupVersion"));
    let runtimes: Vec<&String> = i["Runtimes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .collect();
    println!(
        " Runtimes: {}",
        runtimes
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(" Default Runtime: {}", s("DefaultRuntime"));
    println!(" Security Options:");
    for o in i["SecurityOptions"].as_array().into_iter().flatten() {
        println!("  {}", o.as_str().unwrap_or_default());
    }
    println!(" Kernel Version: {}", s("KernelVersion"));
    println!(" Operating System: {}", s("OperatingSystem"));
    println!(" OSType: {}", s("OSType"));
    println!(" Architecture: {}", s("Architecture"));
    println!(" CPUs: {}", s("NCPU"));
    println!(
        " Total Memory: {}",
        human_binary(i["MemTotal"].as_f64().unwrap_or(0.0))
    );
    println!(" Name: {}", s("Name"));
    println!(" Docker Root Dir: {}", s("DockerRootDir"));
    println!(" Live Restore Enabled: {}", s("LiveRestoreEnabled"));
    Ok(())
}

/// `docker version`'s server part, from `GET /version`.
pub async fn version(client: &Client) -> anyhow::Result<()> {
    println!("Client:\n Version:           {}", env!("CARGO_PKG_VERSION"));
    let v = client.json("GET", "/version", None).await?;
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    println!(
        "\nServer: {}",
        v["Platform"]["Name"].as_str().unwrap_or_default()
    );
    println!(" Engine:");
    println!("  Version:          {}", s("Version"));
    println!(
        "  API version:      {} (minimum version {})",
        s("ApiVersion"),
        s("MinAPIVersion")
    );
    println!("  OS/Arch:          {}/{}", s("Os"), s("Arch"));
    println!("  Kernel Version:   {}", s("KernelVersion"));
    Ok(())
}
