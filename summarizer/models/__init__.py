"""Model engines. Importing this package does not import torch or transformers."""
