"""Herald: validates, delivers and proves receipt of release communications."""

__version__ = "0.1.0"
