"""The games as plain numpy: validated parameters, dynamics, utilities, best responses, named instances."""
