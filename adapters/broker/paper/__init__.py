"""The paper broker: an XTS-speaking simulated broker (matching engine, HTTP server, `/_sim/` control API)."""

from adapters.broker.paper.runner import RunningPaperBroker, run_paper_broker

__all__ = ["RunningPaperBroker", "run_paper_broker"]
