"""The assistant's texts as people edit them: the response catalogue under
domain/responses/ and the translators' PO round trip."""
