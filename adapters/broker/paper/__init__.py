"""The paper broker: a simulated broker speaking XTS and Kite (matching engine, HTTP faces, `/_sim/` control API)."""

from adapters.broker.paper.runner import RunningPaperBroker, run_paper_broker

__all__ = ["RunningPaperBroker", "run_paper_broker"]
