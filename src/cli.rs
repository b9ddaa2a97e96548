//! The `redress` command line (DESIGN.md §9). With no arguments it serves.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::Db;
use crate::startup::{Application, shutdown_signal};

#[derive(Parser, Debug)]
#[command(name = "redress", version, about = "Point-of-sale card disputes")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (migrates first).
    Serve,
    /// Apply database migrations.
    Migrate,
    /// Load demonstration merchants, terminals, records, users and cases.
    Demo,
    /// Import a terminal journal or a settlement file; prints the report, fails if rejected.
    Import {
        /// `journal` or `settlement`.
        #[arg(value_parser = ["journal", "settlement"])]
        kind: String,
        file: std::path::PathBuf,
        /// Read the file through an import profile: a built-in or uploaded name, or a TOML file.
        #[arg(long, value_name = "NAME|PATH")]
        profile: Option<String>,
    },
    /// List the import profiles (built-in, and uploaded ones when the database has them).
    Profiles,
    /// Write a large realistic file for trials and benchmarks to standard output.
    Gen {
        /// `journal` or `settlement`.
        #[arg(value_parser = ["journal", "settlement"])]
        kind: String,
        #[arg(long, default_value_t = 1000)]
        rows: u64,
        /// The same seed gives the same file.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write the rows in a built-in import profile's layout instead of our CSV.
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage webhook endpoints.
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Add a webhook endpoint; prints its signing secret alone on standard output.
    Add {
        #[arg(long)]
        url: String,
        /// A case event name, or `all` (repeat, or give several).
        #[arg(long = "event", required = true, num_args = 1..)]
        events: Vec<String>,
        /// Only this merchant's cases (repeat for several); without it, every case.
        #[arg(long = "merchant")]
        merchants: Vec<String>,
        /// Allow a loopback, private or link-local address (a receiver on your own network).
        #[arg(long)]
        allow_private: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        #[arg(long)]
        role: String,
        #[arg(long)]
        email: String,
        /// A merchant the user works for (merchant users; repeat for several).
        #[arg(long = "merchant")]
        merchants: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Print a new API token (shown once, stored hashed).
    Add {
        #[arg(long)]
        role: String,
        /// The merchant a merchant token acts for (repeat for several).
        #[arg(long = "merchant")]
        merchants: Vec<String>,
        #[arg(long)]
        name: String,
    },
}

pub async fn run(cli: Cli) -> ExitCode {
    crate::telemetry::init();
    match execute(cli).await {
        Ok(code) => code,
        Err(e) => {
            // One clear line for the operator: the chain of causes, no backtrace.
            eprintln!("redress: {}", format_chain(&e));
            ExitCode::FAILURE
        }
    }
}

fn format_chain(e: &anyhow::Error) -> String {
    e.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

async fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config).await?;
            tracing::info!(addr = %app.local_addr(), "Redress is listening");
            app.run(shutdown_signal()).await?;
        }
        Command::Migrate => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            println!("migrations applied to {}", config.database_url);
        }
        Command::Import { kind, file, profile } => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let kind = crate::import::Kind::parse(&kind).expect("clap checked the kind");
            let lang = crate::import::cli::terminal_lang(config.default_lang);
            let profile = match profile {
                None => None,
                Some(name) => {
                    match crate::import::profile::choose::by_name_or_path(&db, &name, &config.timezone).await? {
                        Ok(profile) => profile,
                        Err(e) => {
                            eprintln!("redress: {}", e.message(lang));
                            return Ok(ExitCode::FAILURE);
                        }
                    }
                }
            };
            let report = crate::import::cli::import_file(&db, kind, profile, &file).await?;
            print!("{}", crate::import::report::as_text(lang, &report));
            if !report.accepted {
                return Ok(ExitCode::FAILURE);
            }
            let ctx = crate::cases::MatchContext::new(&config);
            let refreshed = crate::cases::refresh::after_import(&db, &ctx, &report.imported).await?;
            println!("cases matched again: {}, resolved by credits: {}", refreshed.rematched, refreshed.resolved);
        }
        Command::Gen { kind, rows, seed, profile } => {
            let kind = crate::import::Kind::parse(&kind).expect("clap checked the kind");
            let stdout = std::io::stdout().lock();
            match profile.as_deref() {
                None | Some(crate::import::profile::DEFAULT) => {
                    crate::import::generate::write(kind, rows, seed, std::io::BufWriter::new(stdout))?
                }
                Some(name) => {
                    use crate::import::profile::write;
                    if write::kind_of(name) != Some(kind) {
                        anyhow::bail!("no {} profile called {name} can be generated", kind.as_str());
                    }
                    write::generated(name, rows, seed, &mut std::io::BufWriter::new(stdout))?;
                }
            }
        }
        Command::Profiles => {
            let lang = crate::import::cli::terminal_lang(config.default_lang);
            print!("{}", crate::import::cli::list_profiles(&config, lang).await?);
        }
        Command::User(UserCommand::Add { role, email, merchants }) => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let id = crate::accounts::add_user(&db, &role, &email, &merchants, password).await?;
            eprintln!("user {id} created: {email} ({role})");
        }
        Command::Token(TokenCommand::Add { role, merchants, name }) => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            // Alone on standard output, so scripts can capture it.
            println!("{}", crate::accounts::add_token(&db, &role, &merchants, &name).await?);
        }
        Command::Webhook(WebhookCommand::Add { url, events, merchants, allow_private }) => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let request = crate::webhooks::Request {
                url: &url,
                events: &events,
                merchants: &merchants,
                allow_private,
                created_by: None,
            };
            match crate::webhooks::add(&db, &request).await {
                // Alone on standard output, so scripts can capture it.
                Ok((id, secret)) => {
                    eprintln!("webhook endpoint {id} added: {url}");
                    println!("{secret}");
                }
                Err(crate::webhooks::AddError::Db(e)) => return Err(e.into()),
                Err(e) => {
                    let (key, args) = e.message();
                    anyhow::bail!("{}", crate::i18n::Lang::En.t_args(key, &args));
                }
            }
        }
        Command::Demo => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            print!("{}", crate::demo::load_all(&db, &config).await?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
