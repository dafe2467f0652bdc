{
  "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
  "verificationMaterial": {
    "publicKey": {
      "hint": "a55645898847cbc4226c3b452ce2db80a9b5823c6bad6a8b9ed35e73a6ba7472"
    },
    "tlogEntries": []
  },
  "dsseEnvelope": {
    "payload": "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJwcmVkaWNhdGUiOnsicmVzb3VyY2VzIjpbeyJhbGdvcml0aG0iOiJzaGEyNTYiLCJkaWdlc3QiOiI3Yzk5ZDk1YzA0ODM4NDgwYWYwYzlmMTI4YjYwYzNkODNmYzczNWNjZWMxNWFjMTkzMjAwYzU0ZGQ4NzEyMzRhIiwibmFtZSI6ImNvbmZpZy5qc29uIn0seyJhbGdvcml0aG0iOiJzaGEyNTYiLCJkaWdlc3QiOiJiZmMxOGI5ZGM1Zjk3MjY1MWY2YjViZjdiMTJhZWQ4MDcyMmZhZDU3ZTYzMTQ3OTllOWY1NzNmZTVkMzU4ZGVhIiwibmFtZSI6InRva2VuaXplci5qc29uIn0seyJhbGdvcml0aG0iOiJzaGEyNTYiLCJkaWdlc3QiOiI3Y2FiZDg1ZmY3ZTk0MmMzNGZiYWFkODlhMzhkNDU4MWZiNmUyMzI3NWM4ODEzYzExNjkyZjA1YTA2NmQyMjMyIiwibmFtZSI6InRva2VuaXplcl9jb25maWcuanNvbiJ9XSwic2VyaWFsaXphdGlvbiI6eyJhbGxvd19zeW1saW5rcyI6ZmFsc2UsImhhc2hfdHlwZSI6InNoYTI1NiIsImlnbm9yZV9wYXRocyI6WyIuZ2l0IiwiLmdpdGF0dHJpYnV0ZXMiLCIuZ2l0aHViIiwiLmdpdGlnbm9yZSIsIm1vZGVsLnNpZyJdLCJtZXRob2QiOiJmaWxlcyJ9fSwicHJlZGljYXRlVHlwZSI6Imh0dHBzOi8vbW9kZWxfc2lnbmluZy9zaWduYXR1cmUvdjEuMCIsInN1YmplY3QiOlt7ImRpZ2VzdCI6eyJzaGEyNTYiOiI5MTZkMTNkNGIyZDgyYjVkODlmNThiNzE1MmMzZTY0YjViYjFiMzE0NjY3MDBjZWRiYWZjMWE3Mjg1OThhMWZkIn0sIm5hbWUiOiJtb2RlbCJ9XX0=",
    "payloadType": "application/vnd.in-toto+json",
    "signatures": [
      {
        "sig": "MEQCIEaUcharXFtFKWMMBX8g1SUakdcJcjsAVEIy5o2OajBUAiAZ1EN869CfHRjwyg4hUYUtHaf+8KVK+cSyZh8GN6Pk/A==",
        "keyid": ""
      }
    ]
  }
}
