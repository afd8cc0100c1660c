//! `vessel hcs config|process`: print the HCS documents for a spec.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use vessel_hcs::build::{DEFAULT_CONTAINER_NAT, DEFAULT_OWNER};
use vessel_hcs::spec::Process;
use vessel_hcs::winpath::WindowsFs;
use vessel_hcs::{BuildOptions, Document, HostFacts, HostLayerIds, LcowBoot, Spec};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum HcsCommand {
    /// Print the ContainerConfig for SPEC.json.
    Config(HcsArgs),
    /// Print the ProcessConfig of the container's first process, or of an
    /// exec with --exec.
    Process {
        #[command(flatten)]
        args: HcsArgs,
        /// An OCI process (JSON) to add to the running container.
        #[arg(long, value_name = "PROCESS.json")]
        exec: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct HcsArgs {
    /// Container ID [default: the name of the spec's folder].
    #[arg(long)]
    id: Option<String>,
    /// Owner tag recorded by HCS.
    #[arg(long, default_value = DEFAULT_OWNER)]
    owner: String,
    /// Logical processors of the Windows host [default: this host's].
    #[arg(long, value_name = "N")]
    host_cpus: Option<u64>,
    /// Windows build of the host (named pipe mounts need 16210).
    #[arg(long, value_name = "N")]
    os_build: Option<u32>,
    /// Off Windows: the folder where `C:\a` is found as `DIR/C/a`.
    #[arg(long, value_name = "DIR")]
    windows_root: Option<PathBuf>,
    /// NameToGuid of a layer folder's name (repeatable).
    #[arg(long = "layer-id", value_name = "NAME=GUID")]
    layer_ids: Vec<String>,
    /// 2016 specs: a servicing container.
    #[arg(long)]
    servicing: bool,
    /// 2016 specs: name of the container NAT device.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_CONTAINER_NAT)]
    container_nat: String,
    /// LCOW: folder of the utility VM's kernel and initrd.
    #[arg(long, value_name = "DIR", requires_all = ["uvm_kernel", "uvm_initrd"], conflicts_with = "uvm_vhdx")]
    uvm_dir: Option<String>,
    /// LCOW: kernel file name in --uvm-dir.
    #[arg(long, value_name = "FILE", requires = "uvm_dir")]
    uvm_kernel: Option<String>,
    /// LCOW: initrd file name in --uvm-dir.
    #[arg(long, value_name = "FILE", requires = "uvm_dir")]
    uvm_initrd: Option<String>,
    /// LCOW: kernel command line.
    #[arg(long, value_name = "TEXT", requires = "uvm_dir")]
    uvm_boot_params: Option<String>,
    /// LCOW: boot the utility VM from this VHDX.
    #[arg(long, value_name = "FILE")]
    uvm_vhdx: Option<String>,
    /// Indent the JSON.
    #[arg(long)]
    pretty: bool,
    /// The OCI runtime spec (config.json).
    #[arg(value_name = "SPEC.json")]
    spec: PathBuf,
}

pub fn run(cmd: HcsCommand) -> anyhow::Result<()> {
    let (args, exec) = match cmd {
        HcsCommand::Config(args) => (args, None),
        HcsCommand::Process { args, exec } => (args, Some(exec)),
    };
    let spec = read_spec(&args.spec)?;
    let doc = build(&args, &spec)?;
    let out = match exec {
        None => serde_json::to_value(&doc.config)?,
        Some(None) => serde_json::to_value(vessel_hcs::init_process(&spec, &doc)?)?,
        Some(Some(path)) => {
            let process: Process = serde_json::from_str(&read(&path)?)
                .with_context(|| format!("{}: not an OCI process", path.display()))?;
            serde_json::to_value(vessel_hcs::exec_process(&spec, &doc, &process)?)?
        }
    };
    for warning in &doc.warnings {
        eprintln!("vessel: warning: {warning}");
    }
    let text = if args.pretty {
        serde_json::to_string_pretty(&out)?
    } else {
        serde_json::to_string(&out)?
    };
    println!("{text}");
    Ok(())
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn read_spec(path: &Path) -> anyhow::Result<Spec> {
    let text = read(path)?;
    Ok(Spec::from_json(&text)?)
}

fn build(args: &HcsArgs, spec: &Spec) -> anyhow::Result<Document> {
    let mut layer_ids = HostLayerIds::default();
    for entry in &args.layer_ids {
        let (name, guid) = entry
            .split_once('=')
            .ok_or_else(|| anyhow!("--layer-id: {entry:?} is not NAME=GUID"))?;
        layer_ids.given.insert(name, guid)?;
    }
    let id = match &args.id {
        Some(id) => id.clone(),
        None => folder_name(&args.spec)?,
    };
    let host = HostFacts {
        cpu_count: match args.host_cpus {
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
        },
        os_build: args.os_build,
        windows_fs: WindowsFs::for_host(args.windows_root.clone()),
    };
    let mut opts = BuildOptions::new(id);
    opts.owner = args.owner.clone();
    opts.servicing = args.servicing;
    opts.container_nat = args.container_nat.clone();
    opts.lcow_boot = match (&args.uvm_vhdx, &args.uvm_dir) {
        (Some(path), _) => Some(LcowBoot::Vhdx { path: path.clone() }),
        (None, Some(dir)) => Some(LcowBoot::Kernel {
            dir: dir.clone(),
            kernel: args.uvm_kernel.clone().unwrap_or_default(),
            initrd: args.uvm_initrd.clone().unwrap_or_default(),
            boot_parameters: args.uvm_boot_params.clone().unwrap_or_default(),
        }),
        (None, None) => None,
    };
    if args.servicing
        && matches!(
            spec.windows,
            Some(vessel_hcs::spec::WindowsSection::Oci(..))
        )
    {
        bail!("--servicing: runtime-spec 1.0 specs say windows.servicing instead");
    }
    Ok(vessel_hcs::container_config(
        spec, &opts, &host, &layer_ids,
    )?)
}

/// The default container ID: the name of the folder holding the spec.
fn folder_name(spec: &Path) -> anyhow::Result<String> {
    let abs = std::path::absolute(spec)?;
    abs.parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            anyhow!(
                "--id: {} is not in a named folder; give --id",
                spec.display()
            )
        })
}
