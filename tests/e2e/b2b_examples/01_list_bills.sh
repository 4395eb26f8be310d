curl -X GET \
  -H "Authorization: {access_token}" \
  -H "X-Api-Key: {api_key}" \
  https://api.orange.com/billing/b2b/v1/bills
