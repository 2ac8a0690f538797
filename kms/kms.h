/* The KMS signer backends: AWS KMS (awskms://) and HashiCorp Vault or
 * OpenBao Transit (hashivault://, openbao://), over plugin/common/http. */
#ifndef NK_KMS_H
#define NK_KMS_H

#include "common/signer.h"

extern const struct nk_signer_ops nk_awskms_ops;
extern const struct nk_signer_ops nk_vault_ops;

#endif
