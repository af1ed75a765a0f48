"""Helpers the tests share: clients, photo factories, page readers, rows, fake provider servers."""
