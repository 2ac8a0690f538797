/* The KMS signer backends: AWS KMS (awskms://), HashiCorp Vault or
 * OpenBao Transit (hashivault://, openbao://), Azure Key Vault or
 * Managed HSM (azurekms://, https://<vault>/keys|certificates/...) and
 * Google Cloud KMS (gcpkms://), over plugin/common/http. */
#ifndef NK_KMS_H
#define NK_KMS_H

#include "common/signer.h"

extern const struct nk_signer_ops nk_awskms_ops;
extern const struct nk_signer_ops nk_vault_ops;
extern const struct nk_signer_ops nk_azure_ops;
extern const struct nk_signer_ops nk_gcpkms_ops;

#endif
