"""The local web app and HTTP API (`likeness serve`): a front door over verify, scan and generate."""
