"""llasa-search: inference-time compute scaling (verifier-guided search) for Llasa text-to-speech.

Layers, imported one way: cli -> study -> search -> (generation, codec/engine, verifiers interface).
"""
__version__ = "0.1.0"
