"""The wire contract: messages, framing, finding codes and details both sides import. Standard library only."""
