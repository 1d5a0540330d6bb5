"""Herald's service layer: use cases over the domain, talking to the outside through ports."""
