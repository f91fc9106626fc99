/**
 * The AWS Nitro Enclaves root certificate (G1), PEM. Subject `CN=aws.nitro-enclaves, OU=AWS, O=Amazon, C=US`,
 * EC P-384, serial `F93175681B90AFE11D46CCB4E4E7F856`, valid 2019-10-28T13:28:05Z to 2049-10-28T14:28:05Z.
 *
 * Source: `AWS_NitroEnclaves_Root-G1.zip` (`root.pem`) as published by AWS; the same certificate is in
 * `evervault/attestation-doc-validation` (`src/nitro.pem`) and `OpenGradient/og-evm`
 * (`DefaultAWSNitroRootCertPEM`). It is checked against {@link AWS_NITRO_ROOT_G1_SHA256} before use.
 */
export const AWS_NITRO_ROOT_G1_PEM: string = `-----BEGIN CERTIFICATE-----
MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD
VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4
MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL
DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG
BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb
48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE
h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF
R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC
MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW
rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N
IwLz3/Y=
-----END CERTIFICATE-----
`;

/**
 * SHA-256 fingerprint of the DER of {@link AWS_NITRO_ROOT_G1_PEM}, lowercase hex without separators
 * (`64:1A:03:21:…:BB:5B` in colon notation, as given in the AWS documentation).
 */
export const AWS_NITRO_ROOT_G1_SHA256: string =
  '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';
