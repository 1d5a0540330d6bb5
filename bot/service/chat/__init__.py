"""The walkthrough in chat, shared by every platform: the flow, its surface port, redraws, hand-offs."""
