"""Turning web bytes into clean data: fetch (http), parse feeds (feeds), extract articles (article).

Leaf package: no Prefect, no storage, no configuration reading. Only ``http`` touches the network.
"""
