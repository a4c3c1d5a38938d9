"""Circle and account options (R1–R12): the catalog, the cart, and their settings."""
