use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = switchboard::cli::Cli::parse();
    switchboard::cli::init_logging(cli.log_format);
    match switchboard::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            std::process::exit(1);
        }
    }
}
