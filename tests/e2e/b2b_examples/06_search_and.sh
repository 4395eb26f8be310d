curl -X POST \
  -H "Authorization: {access_token}" \
  -H "X-Api-Key: {api_key}" \
  -d '{"$and": [ { "type": "invoice" }, { "sendingFormat": "paper" } ] }' \
  https://api.orange.com/billing/b2b/v1/search
