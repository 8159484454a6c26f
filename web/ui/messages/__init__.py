"""The pages' refusal messages by area, merged into one lookup by web/ui/error_messages.py."""
