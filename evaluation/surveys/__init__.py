"""民主测评 (docs/surveys.md): surveys, codes and slips, the anonymous vote, the tally."""
