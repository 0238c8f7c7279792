"""Discord adapters: each command parses the interaction, calls one service method, renders."""
