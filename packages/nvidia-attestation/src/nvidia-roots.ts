import { type Bytes, base64ToBytes } from '@confidential-ai/bytes';

/**
 * SHA-256 of the DER of "NVIDIA Device Identity CA" (O=NVIDIA, P-384, valid 2021-11-05 to 9999-12-31), lowercase
 * hex: the anchor of every GPU attestation certificate chain, as pinned by NVIDIA's local GPU verifier
 * (`NVIDIA/nvtrust` `guest_tools/gpu_verifiers/local_gpu_verifier/src/verifier/certs/verifier_device_root.pem`).
 */
export const NVIDIA_DEVICE_IDENTITY_ROOT_SHA256 =
  '102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48';

/**
 * SHA-256 of the DER of "NVIDIA CoRIM signing Root CA" (C=US, O=NVIDIA, P-384, valid 2023-03-16 to 2053-03-08),
 * lowercase hex: the anchor of the certificate chains that sign driver and VBIOS RIMs (`NVIDIA/nvtrust`
 * `.../verifier/certs/verifier_RIM_root.pem`).
 */
export const NVIDIA_RIM_ROOT_SHA256 = '12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1';

const DEVICE_IDENTITY_ROOT_BASE64 =
  'MIICCzCCAZCgAwIBAgIQLTZwscoQBBHB/sDoKgZbVDAKBggqhkjOPQQDAzA1MSIwIAYDVQQDDBlOVklESUEgRGV2aWNlIElkZW50aXR5IENBMQ8wDQYDVQQKDAZOVklESUEwIBcNMjExMTA1MDAwMDAwWhgPOTk5OTEyMzEyMzU5NTlaMDUxIjAgBgNVBAMMGU5WSURJQSBEZXZpY2UgSWRlbnRpdHkgQ0ExDzANBgNVBAoMBk5WSURJQTB2MBAGByqGSM49AgEGBSuBBAAiA2IABA5MFKM7+KViZljbQSlgfky/RRnEQScW9NDZF8SXgAW96r6u/Ve8ZggtcYpPi2BS4VFu6KfEIrhN6FcHG7WP05W+oM+hxj7nyA1r1jkB2Ry70YfThX3Ba1zOryOP+MJ9vaNjMGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFFeF/4PyY8xlfWi3Olv0jUrL+0lfMB8GA1UdIwQYMBaAFFeF/4PyY8xlfWi3Olv0jUrL+0lfMAoGCCqGSM49BAMDA2kAMGYCMQCPeFM3TASsKQVaT+8S0sO9u97PVGCpE9d/I42IT7k3UUOLSR/qvJynVOD1vQKVXf0CMQC+EY55WYoDBvs2wPAH1Gw4LbcwUN8QCff8bFmV4ZxjCRr4WXTLFHBKjbfneGSBWwA=';

const RIM_ROOT_BASE64 =
  'MIICKTCCAbCgAwIBAgIQRdrjoA5QN73fh1N17LXicDAKBggqhkjOPQQDAzBFMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxOVklESUEgQ29SSU0gc2lnbmluZyBSb290IENBMCAXDTIzMDMxNjE1MzczNFoYDzIwNTMwMzA4MTUzNzM0WjBFMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxOVklESUEgQ29SSU0gc2lnbmluZyBSb290IENBMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEuECyi9vNM+Iw2lfUzyBldHAwaC1HF7TCgp12QcEyUTm3Tagxwr48d55+K2VIlWYIDk7NlAIQdcV/Ff7euGLI+Qauj93HsSI4WX298PpW54RTgz9tC+Q684caR/BXWEeZo2MwYTAdBgNVHQ4EFgQUpaXrOPK4ZDAk08DBskn594zeZjAwHwYDVR0jBBgwFoAUpaXrOPK4ZDAk08DBskn594zeZjAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwMDZwAwZAIwHGDyscDP6ihHqRvZlI3eqZ4YkvjE1duaN84tAHRVgxVMvNrp5Tnom3idHYGW/dskAjATvjIx6VzHm/4e2GiZAyZEIUBDOKPzp5ei/A0iUZpdvngenDwV8Qa/wGdiTmJ7Bp4=';

/** DER of the NVIDIA Device Identity CA, the default device trust anchor. Returns a fresh copy. */
export function nvidiaDeviceIdentityRootDer(): Bytes {
  return base64ToBytes(DEVICE_IDENTITY_ROOT_BASE64);
}

/** DER of the NVIDIA CoRIM signing Root CA, the default RIM trust anchor. Returns a fresh copy. */
export function nvidiaRimRootDer(): Bytes {
  return base64ToBytes(RIM_ROOT_BASE64);
}
