"""Herald's domain: release language only, standard library only."""
