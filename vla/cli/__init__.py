"""Command-line apps (Hydra), one thin file each: parse the typed config, call one library
function (:mod:`vla.cli.app`); bad input ends in one line with exit code 2
(:mod:`vla.cli.errors`)."""
