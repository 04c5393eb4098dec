"""Jobs stored as rows and the runner that works them off."""
