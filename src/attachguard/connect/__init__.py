"""Amazon Connect attachment scanning: the FILE_SCANNER event, the Lambda handler, and the
commands that associate the handler with a Connect instance. See docs/aws.md."""
