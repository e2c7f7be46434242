"""Static analyses over ANF function bodies."""
