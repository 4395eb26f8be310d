curl -X GET \
  -H "Authorization: {access_token}" \
  -H "X-Api-Key: {api_key}" \
  -H "Accept: text/csv" \
  https://api.orange.com/billing/b2b/v1/reports/R189-Charges+9300856-......csv
