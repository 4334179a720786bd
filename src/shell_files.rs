//! Files generated from the command line's own definition, so they cannot drift from it:
//! shell completions (`containerlab completions bash|zsh|fish`) and the man page
//! (`containerlab manpage`). vagrant/provision.sh installs both.

use crate::cli::Cli;
use crate::exit;
use clap::CommandFactory;

pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "containerlab", &mut std::io::stdout());
    exit::OK
}

pub fn manpage() -> i32 {
    let man = clap_mangen::Man::new(Cli::command());
    match man.render(&mut std::io::stdout()) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("containerlab manpage: {e}");
            exit::ENVIRONMENT
        }
    }
}
