"""The named queries both dialects run as one text: `?` placeholders, rendered for MySQL by the loader."""
