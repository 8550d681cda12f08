"""The support page with the chat widget (port 8080): static files, served locally."""
