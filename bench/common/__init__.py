"""What the bench harnesses (bench/config_propagation, bench/peer) share: running commands, the
peers started through scripts/peers/*.sh, processes and ports, the machine's facts.

Stdlib only and not installed: a harness puts the bench folder on sys.path and imports
`common.<module>`."""
