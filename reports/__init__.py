"""The report: what the pipeline found in a period, as HTML (`tradewatch report`) or markdown (the daily
Prefect artifact). Reads the store through ``storage.stats``; imported by ``flows`` (the daily digest)
and ``cli`` (the command), never the other way round.
"""
