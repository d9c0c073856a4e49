"""Channel adapters: turn channel updates into core `Incoming` values and render `Reply`s."""
