"""Tests for the Extended Ollama Conversation integration."""
