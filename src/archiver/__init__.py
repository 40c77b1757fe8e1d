"""archiver: research-synthesis records to validated manifests, data packages and Zenodo DOIs."""

__version__ = "0.1.0"
