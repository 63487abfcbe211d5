from workflow.management.commands import audit_keygen


class Command(audit_keygen.Command):
    """The same key file as audit_keygen writes (Ed25519, PKCS#8 PEM, mode 600), for another use: a
    key signs one kind of message only."""

    help = (
        "Write a new Ed25519 key for signing exchange messages (公文交换) to PATH (mode 600, never over an "
        "existing file) and print its public key (PEM) for the peers; point EXCHANGE_SIGNING_KEY_FILE at PATH."
    )
